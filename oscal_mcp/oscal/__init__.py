"""The OSCAL domain, apart from MCP (nothing here imports ``mcp``).

The road of a document: `sources` reads it (a file under the root policy, a zip archive, a public
URL) -> `documents` parses it (JSON or YAML, bounded nesting) -> `validation` runs the levels:
NIST's published JSON Schema chosen by ``metadata.oscal-version`` (`schemas`, `schema_level`),
then compliance-trestle's typed model (`model_level`) -> a bounded result (`issues`).

`models` is the registry of the eight OSCAL models; `components` indexes component definitions
as trestle's typed objects; `warmup` builds the expensive, process-wide pieces once.
"""
