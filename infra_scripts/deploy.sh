#!/usr/bin/env bash
# deploy.sh STACK BUCKET [KEY=VALUE ...] — deploy one project's spot-preflight stack.
# The state machine's definition is uploaded to BUCKET under a key named after its content, and the stack
# is deployed with that key: a changed definition is a changed DefinitionKey, so CloudFormation updates
# the state machine (an upload to the same key would look unchanged to it). KEY=VALUE pairs are more
# template parameters (ControllerInstanceId, ControllerRoleName, DataBucketName, ...). With
# ConfigPath=FILE (relative to this checkout) the instance roles are granted exactly FILE's SECRETS
# (SecretParameterNames, SecretArns) unless those are given.
# DEPLOY_DRY_RUN=1 prints the commands instead of running them.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ASL="$ROOT/infra_scripts/stepfunctions/weekly_training.asl.json"
TEMPLATE="$ROOT/infra_scripts/cfn/spot-preflight.yaml"

# deploy_key STACK — where this definition goes: spot-preflight/STACK/weekly_training-<sha256 prefix>.asl.json
deploy_key() {
  local sha
  sha="$(sha256sum "$ASL" | cut -c1-16)"
  printf 'spot-preflight/%s/weekly_training-%s.asl.json' "$1" "$sha"
}

deploy_run() {
  if [[ "${DEPLOY_DRY_RUN:-0}" == 1 ]]; then
    printf '%q ' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# secret_grants PARAM... — SecretParameterNames=/SecretArns= lines for ConfigPath's SECRETS, unless given.
secret_grants() {
  local arg config=""
  for arg in "$@"; do
    case "$arg" in
      SecretParameterNames=* | SecretArns=*) return 0 ;;
      ConfigPath=*) config="${arg#ConfigPath=}" ;;
    esac
  done
  [[ -n "$config" && -f "$ROOT/$config" ]] || return 0
  (cd "$ROOT" && python3 -m preflight.secret_grants "$config")
}

main() {
  if (($# < 2)); then
    echo "usage: infra_scripts/deploy.sh STACK BUCKET [ParameterKey=value ...]" >&2
    exit 2
  fi
  local stack="$1" bucket="$2" key grants
  local -a granted=()
  shift 2
  key="$(deploy_key "$stack")"
  grants="$(secret_grants "$@")" || exit 2
  [[ -z "$grants" ]] || mapfile -t granted <<<"$grants"
  deploy_run aws s3 cp "$ASL" "s3://$bucket/$key"
  deploy_run aws cloudformation deploy --stack-name "$stack" --capabilities CAPABILITY_NAMED_IAM \
    --template-file "$TEMPLATE" --no-fail-on-empty-changeset \
    --parameter-overrides "DefinitionBucket=$bucket" "DefinitionKey=$key" "$@" "${granted[@]}"
}

main "$@"
