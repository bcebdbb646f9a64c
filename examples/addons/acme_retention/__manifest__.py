{
    "name": "Retention on Progress Invoices",
    "summary": "Withhold a retention percentage on construction progress invoices until handover",
    "version": "17.0.1.0.0",
    "license": "LGPL-3",
    "author": "ACME Build",
    "category": "Accounting",
    "depends": ["account", "project"],
    "data": ["security/ir.model.access.csv"],
    "external_dependencies": {"python": []},
    "installable": True,
}
