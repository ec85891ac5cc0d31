#!/usr/bin/env bash
# Checks that the engine's #includes follow the component arrows declared in
# userspace/CMakeLists.txt (CMake writes them to build/components.txt as
# "name: dep dep ..."; cmake/Components.cmake refuses an arrow to a component
# declared later, so the declared graph only points down).
#
#   scripts/check-layers.sh [COMPONENTS_TXT [SOURCE_ROOT]]
#
# Fails (exit 1, one line per problem) when
#  - a file of component C (userspace/C/ or include/hopscope/C/) includes
#    "hopscope/D/..." and D is neither C, the ABI, nor reachable from C's
#    declared dependencies — e.g. core including trace, or trace including survey;
#  - a source or header sits at the root of userspace/ or include/hopscope/;
#  - a folder of userspace/ or include/hopscope/ is not a declared component.
set -euo pipefail
root=${2:-$(cd "$(dirname "$0")/.." && pwd)}
components=${1:-$root/build/components.txt}
[[ -r $components ]] || { echo "check-layers: cannot read $components (configure the build first)" >&2; exit 2; }

declare -A deps=()
order=()
while IFS= read -r line; do
  [[ -z $line ]] && continue
  name=${line%%:*}
  rest=${line#*:}
  deps[$name]=${rest# }
  order+=("$name")
done <"$components"

# Everything reachable from a component along its declared arrows.
declare -A reach=()
for c in "${order[@]}"; do
  seen=" "
  todo=(${deps[$c]})
  while ((${#todo[@]})); do
    d=${todo[0]}
    todo=("${todo[@]:1}")
    [[ $seen == *" $d "* ]] && continue
    seen+="$d "
    todo+=(${deps[$d]:-})
  done
  reach[$c]=$seen
done

problems=0
fail() {
  echo "check-layers: $*"
  problems=$((problems + 1))
}

for f in "$root"/userspace/*.cpp "$root"/userspace/*.hpp "$root"/include/hopscope/*.hpp "$root"/include/hopscope/*.h; do
  [[ -e $f ]] && fail "${f#"$root"/}: at the root; every file belongs to a component folder"
done
for dir in "$root"/userspace/*/ "$root"/include/hopscope/*/; do
  c=$(basename "$dir")
  [[ $c == abi ]] && continue
  [[ -n ${deps[$c]+x} ]] || fail "${dir#"$root"/}: '$c' is not a component declared in userspace/CMakeLists.txt"
done

for c in "${order[@]}"; do
  for dir in "$root/userspace/$c" "$root/include/hopscope/$c"; do
    [[ -d $dir ]] || continue
    while IFS=: read -r file lineno text; do
      d=$(sed -E 's/.*"hopscope\/([a-z_0-9]+)\/.*/\1/' <<<"$text")
      [[ $d == "$c" || $d == abi ]] && continue
      if [[ -z ${deps[$d]+x} ]]; then
        fail "${file#"$root"/}:$lineno: includes hopscope/$d/, which is not a component"
      elif [[ ${reach[$c]} != *" $d "* ]]; then
        fail "${file#"$root"/}:$lineno: $c includes $d (hopscope/$d/), but $c does not depend on $d: arrows run $c -> ${deps[$c]:- (nothing)}"
      fi
    done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"hopscope/[a-z_0-9]+/' "$dir" || true)
  done
done

if ((problems)); then
  echo "check-layers: $problems problem(s)"
  exit 1
fi
echo "check-layers: ${#order[@]} components, every include follows the arrows"
