from odoo import api, fields, models


class ProjectProject(models.Model):
    _inherit = "project.project"

    retention_percent = fields.Float(digits=(5, 2), default=5.0)
    retention_release_date = fields.Date()


class AccountMove(models.Model):
    _inherit = "account.move"

    retention_amount = fields.Monetary(compute="_compute_retention_amount", store=True)

    @api.depends("amount_untaxed", "line_ids.analytic_distribution")
    def _compute_retention_amount(self):
        for move in self:
            move.retention_amount = 0.0
