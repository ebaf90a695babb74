from django.contrib import admin
from django.urls import path

from gwsite import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/info", views.info, name="info"),
    path("state", views.state),
    path("form/", views.form, name="form"),
    path("flash/", views.flash, name="flash"),
]
