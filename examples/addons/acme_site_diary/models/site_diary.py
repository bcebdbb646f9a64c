from odoo import fields, models


class SiteDiary(models.Model):
    _name = "acme.site.diary"
    _description = "Site Diary Entry"
    _order = "date desc, id desc"

    project_id = fields.Many2one("project.project", required=True, ondelete="cascade", index=True)
    date = fields.Date(required=True, default=fields.Date.context_today)
    weather = fields.Selection([("sun", "Sunny"), ("rain", "Rain"), ("snow", "Snow"), ("wind", "Wind")])
    crew_size = fields.Integer()
    supervisor_id = fields.Many2one("hr.employee", ondelete="set null")
    notes = fields.Html(translate=False)
    incident = fields.Boolean()

    _sql_constraints = [
        ("one_per_day", "unique(project_id, date)", "One diary entry per project and day."),
    ]
