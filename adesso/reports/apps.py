from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "adesso.reports"
    label = "reports"
    verbose_name = "Reports, staffing planner and daily digest"
