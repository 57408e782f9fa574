from django.urls import path

from adesso.surveys import views

app_name = "surveys"

urlpatterns = [
    path("<str:token>/<int:score>", views.answer, name="answer"),
]
