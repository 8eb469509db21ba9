"""Reading VEX files (CSAF 2.0 csaf_vex, CycloneDX, OpenVEX) into the format-neutral statements of
response/vex_model.py. Pure: bytes in, statements out, no database."""

from __future__ import annotations

from vigil.sources.vex.csaf import read_csaf_vex
from vigil.sources.vex.cyclonedx import read_cyclonedx_vex
from vigil.sources.vex.openvex import read_openvex
from vigil.sources.vex.records import FORMATS, VexFile, VexFileError, detect_format, load_json, source_file


def read_vex(raw: bytes, name: str, fmt: str = "auto", max_bytes: int = 50 * 1024 * 1024) -> VexFile:
    """The statements of one VEX file; VexFileError (`<name>: <reason>`) when it cannot be read at all.

    `fmt` is auto (the document says which it is), csaf, cyclonedx or openvex (then it must be that)."""
    doc = load_json(raw, name, max_bytes)
    found = detect_format(doc)
    if found is None:
        raise VexFileError(f"{name}: not a VEX document vigil reads (CSAF 2.0 csaf_vex, CycloneDX or OpenVEX JSON)")
    if fmt != "auto" and fmt != found:
        raise VexFileError(f"{name}: --format {fmt} given, but the file is {found}")
    source = source_file(raw, name)
    if found == "csaf":
        return read_csaf_vex(doc, source)
    if found == "cyclonedx":
        return read_cyclonedx_vex(raw, doc, source, max_bytes)
    return read_openvex(doc, source)


__all__ = ["FORMATS", "VexFile", "VexFileError", "read_vex"]
