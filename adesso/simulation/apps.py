from django.apps import AppConfig


class SimulationConfig(AppConfig):
    name = "adesso.simulation"
    label = "simulation"
    verbose_name = "Simulation"
