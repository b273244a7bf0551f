"""Spare the course's test and notebook runners a grammar that nothing in them uses.

nbformat imports jsonschema, and jsonschema imports `rfc3987_syntax` when it is installed
(JupyterLab's event system installs it) to check the "iri" and "uri" string formats. That module
builds an Earley parser for RFC 3987 as it is imported: about 0.8 s, in every pytest or nbclient
process, before the first notebook starts. Neither nbformat, nbval nor our tests check string
formats (their validators are built without a format checker), so this process marks the module
as absent and jsonschema leaves those two formats unchecked, as it does wherever the package is
not installed. Kernels, and JupyterLab itself, are other processes and are not affected.

Loaded first, as a pytest plugin (`-p scripts.skip_iri_grammar`, see `scripts/course.py`) or by
importing it before nbformat (`scripts/run_notebooks.py`).
"""

from __future__ import annotations

import sys

# None in sys.modules makes `import rfc3987_syntax` raise ImportError, which jsonschema expects
# from a machine without it. setdefault: if something imported it already, it stays.
sys.modules.setdefault("rfc3987_syntax", None)
