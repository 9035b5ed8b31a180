"""achats.chassis: the small, shared foundation every service of the platform is built on."""
