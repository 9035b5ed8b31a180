"""Consultations de test: fictitious calls for tenders to practise answering."""
