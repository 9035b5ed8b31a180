"""The helpdesk of the Plateforme des achats: assistance requests with FAQ, tickets followed by link and mail."""
