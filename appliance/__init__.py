"""ClinicBox: the offline-first phone appliance for small clinics."""

__version__ = "0.1.0"
