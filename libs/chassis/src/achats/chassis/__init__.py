"""achats.chassis: the small, shared foundation every service of the platform is built on."""

import warnings

# connexion imports starlette's test client when it is imported, and starlette then warns that httpx
# should become httpx2: nothing a service can act on, and two lines of noise on every console
# command's stderr (`achats-identity create-agent`, the launcher).
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
