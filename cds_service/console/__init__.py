"""The console commands of ``lenalidomide-cds`` (see ``cds_service/cli.py``), one module each."""
