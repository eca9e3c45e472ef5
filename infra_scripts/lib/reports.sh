# shellcheck shell=bash
# Reports for CI systems (--junit, --sarif, GitHub Actions), made on this machine by
# preflight/report_formats from the fetched readiness artifact once it verifies, on every exit path of
# a run. Their paths are checked before anything is launched.

# reports_github — --format github, or inside GitHub Actions unless --format text.
reports_github() {
  [[ "$FLAG_FORMAT" == github || (-z "$FLAG_FORMAT" && "${GITHUB_ACTIONS:-}" == true) ]]
}

# reports_check — exit 2 naming a report path that cannot be written; nothing is written.
reports_check() {
  local -a paths=()
  [[ -n "$FLAG_JUNIT" ]] && paths+=(--junit "$FLAG_JUNIT")
  [[ -n "$FLAG_SARIF" ]] && paths+=(--sarif "$FLAG_SARIF")
  ((${#paths[@]})) || return 0
  ((FLAG_PLAN == 0)) || die 2 "--plan writes plan.json only: --junit and --sarif report a run"
  py_module preflight.report_formats check "${paths[@]}" || exit 2
}

# reports_write RC — the reports asked for; fails when one could not be written (it says which).
reports_write() {
  local rc="$1" project=""
  [[ -n "$FLAG_JUNIT$FLAG_SARIF" ]] || reports_github || return 0
  [[ -n "${CFG[REPO_URL]:-}" ]] || project="$(config_project_dir)" # else lint's paths start at the clone's root
  local -a args=(--results "$ARTIFACT_DIR" --run-id "$RUN_ID" --mode "$MODE" --exit-code "$rc"
    --status "$(reports_status "$rc")" --reason "$EXIT_REASON" --tool-version "$VERSION"
    --repo-root "$ROOT" --project-dir "$project" --config "$CONFIG_FILE")
  [[ -n "$FLAG_JUNIT" ]] && args+=(--junit "$FLAG_JUNIT")
  [[ -n "$FLAG_SARIF" ]] && args+=(--sarif "$FLAG_SARIF")
  reports_github && args+=(--github)
  py_module preflight.report_formats write "${args[@]}"
}

reports_status() {
  if [[ "$MODE" != preflight-only && "$1" == 0 ]]; then printf 'DONE'; else run_status_word "$1"; fi
}
