"""The OSCAL domain, apart from MCP (nothing here imports ``mcp``).

The road of a document: `sources` reads it (a file under the root policy, a zip archive, a public
URL) -> `documents` parses it (JSON or YAML, bounded nesting) -> `validation` runs the levels:
NIST's published JSON Schema chosen by ``metadata.oscal-version`` (`schemas`, `schema_level`),
then compliance-trestle's typed model (`model_level`) -> a bounded result (`issues`).

The documents the server offers are read once, into the store: `sources.directory_documents`
walks the operator's directories -> `store_sources` parses and classifies -> `store_checks` runs
NIST's schema on each -> `store` indexes them (`store_index`, SQLite FTS5). `components_loading`
builds the component index (`components`, trestle's typed objects) from the store's component
definitions; `profiles` resolves profiles against the store; `clipping` bounds objects for results.

`models` is the registry of the eight OSCAL models; `warmup` builds the expensive, process-wide
pieces once.
"""
