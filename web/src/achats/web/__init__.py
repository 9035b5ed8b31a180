"""The supplier's web pages of the Plateforme des achats (Flask + Jinja2, DSFR), served inside the chassis."""
