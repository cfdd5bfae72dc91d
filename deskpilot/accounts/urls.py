from django.urls import path

from deskpilot.accounts import views

app_name = "accounts"

urlpatterns = [
    path("signin", views.signin, name="signin"),
    path("signin/link", views.signin_link_request, name="signin_link_request"),
    path("signin/link/<str:key>", views.signin_link, name="signin_link"),
    path("signout", views.signout, name="signout"),
]
