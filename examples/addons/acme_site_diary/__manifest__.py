{
    "name": "Site Diary",
    "summary": "Daily construction site diary per project: weather, crew, deliveries, incidents",
    "version": "17.0.2.1.0",
    "license": "LGPL-3",
    "author": "ACME Build",
    "category": "Project",
    "depends": ["project", "hr"],
    "data": [
        "security/ir.model.access.csv",
        "views/site_diary_views.xml",
    ],
    "installable": True,
}
