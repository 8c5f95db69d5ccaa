#!/usr/bin/env bash
# Builds the documentation site into docs/_build/html: the user guide and the
# Python API reference (Sphinx, from docs/ and the `scorelake` package installed
# in .venv) and the Rust API reference (`cargo doc`, under rust/). Any Sphinx
# warning fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."

out=docs/_build/html
target_dir="${CARGO_TARGET_DIR:-target}"

if ! .venv/bin/python -c 'import sphinx, myst_parser, scorelake' 2>/dev/null; then
    echo "docs.sh: .venv needs Sphinx, myst-parser and the scorelake package:" >&2
    echo "  scripts/setup-test-tools.sh && .venv/bin/pip install -r python/requirements-test.txt" >&2
    echo "  && (. .venv/bin/activate && maturin develop --release)" >&2
    exit 1
fi

# -E: a fresh environment, so every page's warnings are reported on every run.
.venv/bin/python -m sphinx -b html -E -W --keep-going -q -d docs/_build/doctrees docs "$out"

cargo doc -p scorelake --no-deps --quiet
rm -rf "$out/rust"
cp -R "$target_dir/doc" "$out/rust"

echo "$PWD/$out/index.html"
