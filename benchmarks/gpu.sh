#!/usr/bin/env bash
# Chapters 7, 8 and 11.8 (the vision Transformer) on one GPU, in at most 9 minutes: store the pages' full runs for the site,
# and time d2l 1.0.3's own Trainer against ours.
#
#   bash benchmarks/gpu.sh        # on the GPU machine (device tool; carry .whl and .data)
#
# Prepare here first: `python benchmarks/gpu_wheels.py` (wheels of the Jupyter stack and d2l
# 1.0.3 for Python 3.12 into .whl/) and a copy of the data in .data/ (.data/FashionMNIST/raw/
# with the four .gz files). Dry run on a CPU machine, in a tiny setting:
#
#   GPU_TINY=1 PYTHON=/path/to/bare/python WHEELS=/tmp/whl311 OUT=/tmp/gpu-out bash benchmarks/gpu.sh
#
# The machine needs only Python with torch, torchvision, numpy, pandas, matplotlib and pytest.
# Stages, the most valuable first; everything lands in $OUT as soon as it exists, so a
# timeout keeps what finished (at most 8 files come back from the device):
#   0. install the carried wheels into a private folder ($OUT/env.json: versions, device)
#   1. store the full runs of the chapter 8 pages and 11.8, then of chapter 7, with book/outputs.py,
#      GPU_PARALLEL pages at a time; $OUT/runs.tar.gz (book/runs/<page>.json) is refreshed
#      every few seconds; stage 1 ends by GPU_STAGE1 seconds after the start
#   2. benchmarks/gpu_bench.py: d2l against ours for 2 epochs of AlexNet@224, VGG@224 and
#      ResNet-18@96, then our opt-in levers; $OUT/bench.jsonl (one line per run), bench.md
#   $OUT/gpu.log is this script's log, $OUT/logs.tar.gz every page's and run's own log.
# Afterwards, here: `tar -xzf runs.tar.gz -C book/` puts the stored runs in place.
# In the tiny setting (GPU_TINY=1) stage 1 executes the chapter 8 and 11.8 pages in the quick profile
# (nothing stored) and stores one cheap chapter 7 page into a scratch folder, and stage 2 runs
# one epoch of two batches per configuration.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$(date +%s)
BUDGET=${GPU_BUDGET:-540}              # seconds for everything, this script's setup included
STAGE1=${GPU_STAGE1:-330}              # seconds after the start by which stage 1 ends
PARALLEL=${GPU_PARALLEL:-4}            # pages executed at the same time in stage 1
PY=${PYTHON:-python3}
WHEELS=${WHEELS:-$ROOT/.whl}
DATA=${GPU_DATA:-$ROOT/.data}
TINY=${GPU_TINY:-0}
OUT=${OUT:-$ROOT/_build/gpu-out}
WORK=$(mktemp -d /tmp/gpu-work.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT" "$WORK/logs"
exec > >(tee -a "$OUT/gpu.log") 2>&1
elapsed() { echo $(( $(date +%s) - START )); }
say() { echo "[$(elapsed) s] $*"; }
pack() {  # refresh the tarballs in $OUT atomically
  if [ -d "$RUNS" ]; then
    tar -czf "$WORK/runs.tmp" -C "$RUNS/.." "$(basename "$RUNS")" && mv "$WORK/runs.tmp" "$OUT/runs.tar.gz"
  fi
  tar -czf "$WORK/logs.tmp" -C "$WORK" logs && mv "$WORK/logs.tmp" "$OUT/logs.tar.gz"
}

# -- 0. environment ----------------------------------------------------------------------
say "installing $(ls "$WHEELS"/*.whl | wc -l) wheels from $WHEELS"
"$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target "$WORK/site" "$WHEELS"/*.whl || { say "wheel install failed"; exit 1; }
export PYTHONPATH="$WORK/site:$ROOT"
export D2LMINI_MIRROR="$DATA" D2LMINI_DATA="$WORK/data" D2LMINI_BUILD="$WORK/build"
export D2LMINI_BOARD=static PYTHONUNBUFFERED=1
export JUPYTER_PLATFORM_DIRS=1 JUPYTER_RUNTIME_DIR="$WORK/jupyter-runtime"
unset MPLBACKEND
"$PY" - > "$OUT/env.json" <<'EOF' || { say "environment check failed"; cat "$OUT/env.json"; exit 1; }
import json, platform, torch, nbclient, ipykernel, jupytext, nbformat, d2lmini
from d2lmini._compat import import_torchvision
torchvision = import_torchvision()  # a plain import, except beside a CPU-only torch
info = {'python': platform.python_version(), 'torch': torch.__version__,
        'torchvision': torchvision.__version__, 'cuda': torch.version.cuda,
        'device': torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu',
        'nbclient': nbclient.__version__, 'ipykernel': ipykernel.__version__,
        'jupytext': jupytext.__version__, 'nbformat': nbformat.__version__,
        'd2lmini': d2lmini.__version__}
print(json.dumps(info))
EOF
say "environment: $(cat "$OUT/env.json")"
# the d2lmini cache: decode Fashion-MNIST once, before the parallel pages race for it
"$PY" -c "import d2lmini as d2l; d2l.FashionMNIST()" || { say "data check failed"; exit 1; }

# -- 1. stored full runs -------------------------------------------------------------------
CH8="googlenet densenet vgg resnet cnn-design alexnet nin batch-norm"  # longest first
CH7="lenet conv-layer channels padding-and-strides pooling why-conv"
PAGES=""
for p in $CH8; do PAGES="$PAGES chapter_convolutional-modern/$p"; done
PAGES="$PAGES chapter_attention-mechanisms-and-transformers/vision-transformer"  # R35
for p in $CH7; do PAGES="$PAGES chapter_convolutional-neural-networks/$p"; done
if [ "$TINY" = 1 ]; then
  RUNS="$WORK/runs"  # nothing is stored into the repository in a dry run
  PAGES=$(echo $PAGES | tr ' ' '\n' | grep -E 'convolutional-modern|vision-transformer' | tr '\n' ' ')
else
  RUNS="$ROOT/book/runs"
fi
store() {  # one page, its own log; in the tiny setting: quick profile, not stored
  local page=$1 log="$WORK/logs/$(echo "$1" | tr '/' '_').log" left=$(( STAGE1 - $(elapsed) ))
  if [ "$left" -lt 20 ]; then say "skip $page (stage 1 time is up)"; return; fi
  if [ "$TINY" = 1 ]; then
    OMP_NUM_THREADS=1 timeout "$left" "$PY" -c "
import sys; sys.path.insert(0, 'book'); import outputs
nb, seconds, checks = outputs.execute('$page', profile='quick')
bad = [c for c in checks if not c.get('ok', True)]
print(f'$page: executed in {seconds:.1f} s (quick profile), {len(checks)} checks, {len(bad)} failed')
sys.exit(1 if bad else 0)" > "$log" 2>&1
  else
    OMP_NUM_THREADS=4 timeout "$left" "$PY" book/outputs.py "$page" > "$log" 2>&1
  fi
  say "$page: exit $? ($(tail -n 1 "$log"))"
}
say "stage 1: $(echo $PAGES | wc -w) pages, $PARALLEL at a time, until $STAGE1 s"
( while sleep 10; do pack; done ) & PACKER=$!
for page in $PAGES; do
  while [ "$(jobs -rp | wc -l)" -gt "$PARALLEL" ]; do wait -n; done  # the packer is one job
  store "$page" &
done
while [ "$(jobs -rp | wc -l)" -gt 1 ]; do wait -n; done
if [ "$TINY" = 1 ]; then  # the real store path, on a cheap page, into the scratch folder
  page=chapter_convolutional-neural-networks/padding-and-strides
  "$PY" -c "
import sys; sys.path.insert(0, 'book'); import runs, outputs, pathlib
runs.RUNS = pathlib.Path('$RUNS'); outputs.store('$page')" > "$WORK/logs/store-test.log" 2>&1
  say "store test ($page, full profile, into $RUNS): exit $? ($(tail -n 1 "$WORK/logs/store-test.log"))"
fi
kill $PACKER 2>/dev/null; wait $PACKER 2>/dev/null
pack
say "stage 1 done: $(ls "$RUNS" 2>/dev/null | wc -l) chapter folder(s) in runs.tar.gz"

# -- 2. d2l 1.0.3 against ours ---------------------------------------------------------------
DEADLINE=$(( START + BUDGET - 10 ))
say "stage 2 until $(( DEADLINE - START )) s"
TINYFLAG=""; [ "$TINY" = 1 ] && TINYFLAG="--tiny"
OMP_NUM_THREADS=8 "$PY" benchmarks/gpu_bench.py --out "$OUT" --logs "$WORK/logs" \
  --deadline "$DEADLINE" $TINYFLAG
pack
say "done; $OUT holds: $(ls "$OUT" | tr '\n' ' ')"
