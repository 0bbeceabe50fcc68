#!/usr/bin/env bash
# Checks the dependency rules of STYLE.md mechanically:
#  1. domain/... imports only the standard library, other domain packages
#     and the pure decoders listed in domain_decoders (no Gin, Watermill, SQL
#     driver, gRPC, or anything else with I/O or a framework's types);
#  2. only cmd/... imports concrete adapters: event stores
#     (eventstore/<adapter>; eventstore/pubsub, the Watermill Pub/Sub over the
#     port, is no adapter), token stores (auth/<adapter>) and personal-data
#     key stores (personal/<adapter>); tests may, and so may the adapters' own
#     packages;
#  3. the projection engine (projections) names no read model, and a read
#     model (projections/<model>: summaries, timeline, ...) names no other:
#     each read model depends on the engine alone, and cmd hands the engine
#     its definitions (non-test imports; projectionstest, the tests' helper,
#     is no read model).
set -euo pipefail
cd "$(dirname "$0")/.."
module=$(go list -m)
fail=0

domain_deps=$(go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./domain/...)
all_imports=$(go list -f '{{.ImportPath}} {{join .Imports " "}}' ./...)

# 1. Every non-standard dependency of the domain must be the domain itself,
# or a decoder that only turns bytes into values: domain/survey reads
# questionnaires written in YAML (sigs.k8s.io/yaml and the yaml.v2 it
# converts with).
domain_decoders="sigs.k8s.io/yaml go.yaml.in/yaml/v2"
while read -r pkg; do
  if [[ " $domain_decoders " == *" $pkg "* ]]; then continue; fi
  case "$pkg" in
    "$module"/domain|"$module"/domain/*) ;;
    *) echo "depcheck: domain depends on $pkg"; fail=1 ;;
  esac
done <<<"$domain_deps"

# 2. Concrete adapters are named only in cmd (non-test imports).
adapters="$module/(eventstore|auth|personal)/[a-z]+$"
while read -r pkg imports; do
  case "$pkg" in
    "$module"/cmd/*|"$module"/eventstore/*|"$module"/auth/*|"$module"/personal/*) continue ;;
  esac
  for imp in $imports; do
    if [[ "$imp" =~ $adapters && "$imp" != "$module/eventstore/eventstoretest" && "$imp" != "$module/eventstore/pubsub" ]]; then
      echo "depcheck: $pkg imports the concrete adapter $imp (only cmd may)"
      fail=1
    fi
  done
done <<<"$all_imports"

# 3. The engine knows no read model; read models know only the engine.
readmodel="^$module/projections/[a-z]+$"
while read -r pkg imports; do
  case "$pkg" in
    "$module"/projections|"$module"/projections/*) ;;
    *) continue ;;
  esac
  [ "$pkg" = "$module/projections/projectionstest" ] && continue
  for imp in $imports; do
    if [[ "$imp" =~ $readmodel && "$imp" != "$module/projections/projectionstest" && "$imp" != "$pkg" ]]; then
      echo "depcheck: $pkg imports the read model $imp (the engine and each read model depend on no read model)"
      fail=1
    fi
  done
done <<<"$all_imports"

if [ "$fail" -ne 0 ]; then exit 1; fi
echo "depcheck: ok"
