"""Reading input documents with positions, under one policy: the layer below the engine, gates and actions.

- ``problem``: the one ``Problem`` type (file:line:col: $.path: message) and its helpers.
- ``source``: open a file only if it is regular (a symlink only to a regular file
  inside the project), read at most a byte budget, decode strict UTF-8.
- ``yaml``: YAML to plain data plus the position of every node, walking the event
  stream under a node and depth budget; unknown tags are errors.
- ``shape``: a small structural type vocabulary, for declaring what an action's
  arguments and outputs look like without importing pydantic.

The gates' TOML and JSONC readers (``ops.gates.load``) can join as siblings of
``yaml``: read with ``source.read_text`` and report ``DocumentError(Problem)``.
Submodules are imported where used, so this package costs nothing to import.
"""
