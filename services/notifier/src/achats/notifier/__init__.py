"""achats.notifier: every mail the platform sends, in French, reliably, never twice."""
