"""« Mon Assistant Marchés Publics »: the supplier's local signing assistant."""

from importlib import metadata

try:
    __version__ = metadata.version("achats-assistant")
except metadata.PackageNotFoundError:  # run from a source tree or a zipapp without metadata
    __version__ = "0.1.0"
