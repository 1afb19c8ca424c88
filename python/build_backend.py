"""A stdlib-only PEP 517 build backend for this package, so ``pip install ./python`` works offline
on any Python >= 3.9 with pip and nothing else (no setuptools or wheel needed; they are often not
installed, and cannot be fetched without network).

Builds a pure-Python wheel (PEP 427: the packages, and NAME-VERSION.dist-info with METADATA,
WHEEL, entry_points.txt and RECORD) and an sdist (PEP 625 tar.gz). The facts come from
pyproject.toml's [project] table, read by the small parser below (tomllib is 3.11+).
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = ("vfiokit", "vfiokit_cyborg")


def _project():
    """name, version, description, requires-python and entry points from pyproject.toml."""
    with open(os.path.join(HERE, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    section, out, eps = None, {}, {}
    for line in text.splitlines():
        line = line.strip()
        m = re.match(r'^\[(.+)\]$', line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r'^"?([\w.-]+)"?\s*=\s*"(.*)"$', line)
        if not m:
            continue
        if section == "project":
            out[m.group(1)] = m.group(2)
        elif section and section.startswith("project.entry-points."):
            group = section[len("project.entry-points."):].strip('"')
            eps.setdefault(group, []).append("%s = %s" % (m.group(1), m.group(2)))
    out["entry_points"] = eps
    return out


def _files():
    for pkg in PACKAGES:
        for root, dirs, names in os.walk(os.path.join(HERE, pkg)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for n in sorted(names):
                if n.endswith(".py"):
                    full = os.path.join(root, n)
                    yield full, os.path.relpath(full, HERE).replace(os.sep, "/")


def _metadata(p):
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\nRequires-Python: %s\n"
            % (p["name"], p["version"], p.get("description", ""), p.get("requires-python", ">=3.9")))


def _dist_info_files(p):
    eps = "".join("[%s]\n%s\n\n" % (g, "\n".join(lines)) for g, lines in p["entry_points"].items())
    return {
        "METADATA": _metadata(p),
        "WHEEL": "Wheel-Version: 1.0\nGenerator: vfiokit build_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        "entry_points.txt": eps,
        "top_level.txt": "\n".join(PACKAGES) + "\n",
    }


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (arcname, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    p = _project()
    name = "%s-%s.dist-info" % (p["name"], p["version"])
    os.makedirs(os.path.join(metadata_directory, name), exist_ok=True)
    for fname, text in _dist_info_files(p).items():
        with open(os.path.join(metadata_directory, name, fname), "w", encoding="utf-8") as f:
            f.write(text)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    p = _project()
    dist_info = "%s-%s.dist-info" % (p["name"], p["version"])
    wheel_name = "%s-%s-py3-none-any.whl" % (p["name"], p["version"])
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as z:
        for full, arc in _files():
            with open(full, "rb") as f:
                data = f.read()
            z.writestr(arc, data)
            records.append(_record_line(arc, data))
        for fname, text in _dist_info_files(p).items():
            arc, data = "%s/%s" % (dist_info, fname), text.encode()
            z.writestr(arc, data)
            records.append(_record_line(arc, data))
        records.append("%s/RECORD,," % dist_info)
        z.writestr("%s/RECORD" % dist_info, "\n".join(records) + "\n")
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    p = _project()
    base = "%s-%s" % (p["name"], p["version"])
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ("pyproject.toml", "build_backend.py"):
            t.add(os.path.join(HERE, rel), arcname="%s/%s" % (base, rel))
        for full, arc in _files():
            t.add(full, arcname="%s/%s" % (base, arc))
        info = tarfile.TarInfo("%s/PKG-INFO" % base)
        data = _metadata(p).encode()
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return name
