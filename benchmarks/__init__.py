"""fastbp's asv suite; see asv.conf.json at the repository root and README.md."""
