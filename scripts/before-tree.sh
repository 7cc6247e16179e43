# Sourced by the scripts that measure before and after a change
# (detection-before-after.sh, bench-sustained.sh), from the project's root.
# prepare_before_tree REV SRC [FILE...]: SRC becomes git revision REV with
# this tree's bench/ (the simulation and scoring both sides share) and each
# FILE copied over it. `launcher` holds ccache's CMake setting, if ccache is
# there; `field JSON NAME` prints a top-level field of a JSON file.
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

prepare_before_tree() {
  local rev=$1 src=$2
  shift 2
  rm -rf "$src"
  mkdir -p "$src"
  git archive "$rev" | tar -x -C "$src"
  rm -rf "$src/bench"
  cp -r bench "$src/bench"
  for file in "$@"; do cp "$file" "$src/$file"; done
}

field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
