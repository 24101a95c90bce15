"""Validation: row rules (quarantine), Pandera schemas, and the asset-check results built from them."""
