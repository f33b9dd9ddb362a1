"""The release stage: write a protected release as files, atomically.

Takes a :class:`~suoja.protect.protected.ProtectedRelease` (never the register) and writes
``open/`` (CSV, JSON-stat, datapackage, PX, CKAN, DCAT), ``restricted/`` (owner only) and the
manifest into a private temporary folder that replaces the target only when everything is
written (``_target.atomic_folder``). Modules: ``write`` (open/ and restricted/), ``_jsonstat``,
``_target`` (the atomic writer), ``portal/`` (PX, CKAN, DCAT, manifest, ``check``).
"""

from suoja.release._target import atomic_folder, check_target
from suoja.release.portal import check_release, verify_release, write_manifest
from suoja.release.write import write_audit, write_files, write_release

__all__ = [
    "atomic_folder",
    "check_release",
    "check_target",
    "verify_release",
    "write_audit",
    "write_files",
    "write_manifest",
    "write_release",
]
