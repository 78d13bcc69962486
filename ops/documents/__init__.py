"""Reading input documents with positions, under one policy: the layer below the engine, gates and actions.

- ``problem``: the one ``Problem`` type (file:line:col: $.path: message) and its helpers.
- ``source``: open a file only if it is regular (a symlink only to a regular file
  inside the project), read at most a byte budget, decode strict UTF-8.
- ``yaml``: YAML to plain data plus the position of every node, walking the event
  stream under a node and depth budget; unknown tags are errors.
- ``toml``: TOML (tomllib) plus the position of every key, from a small lexer.
- ``jsonc``: JSON and JSONC (comments, trailing commas) with every key's position
  and every value's span (``edit`` replaces spans in place).
- ``config``: a TOML, JSON or JSONC config by its suffix: data, key positions, spans.
- ``shape``: a small structural type vocabulary, for declaring what an action's
  arguments and outputs look like without importing pydantic.

Every reader reports a bad document the same way: ``DocumentError(Problem)``,
an ``InputError`` (exit 2) reading ``file:line:col: $.path: what to do``.
Submodules are imported where used, so this package costs nothing to import.
"""
