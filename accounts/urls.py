from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import brand_views, views, views_platform
from .forms import EmailLoginForm

app_name = "accounts"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html",
            authentication_form=EmailLoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("signup/", views.signup, name="signup"),
    path("signup/r/<str:code>/", views.signup, name="signup_reseller"),
    path("verify-email/resend/", views.verify_email_resend, name="verify_email_resend"),
    path("verify-email/<str:token>/", views.verify_email, name="verify_email"),
    path("settings/", views.account_settings, name="settings"),
    path("brand/", brand_views.brand_edit, name="brand"),
    path("team/", views.team_list, name="team"),
    path("team/add/", views.team_add, name="team_add"),
    path("team/<int:pk>/", views.team_edit, name="team_edit"),
    path("customers/", views.customer_list, name="customers"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/status/", views.customer_set_status, name="customer_set_status"),
    path("resellers/", views_platform.reseller_list, name="resellers"),
    path("resellers/new/", views_platform.reseller_create, name="reseller_create"),
    path("resellers/<int:pk>/", views_platform.reseller_detail, name="reseller_detail"),
    path(
        "resellers/<int:pk>/discount/", views_platform.reseller_discount, name="reseller_discount"
    ),
    path("resellers/<int:pk>/status/", views_platform.reseller_status, name="reseller_status"),
]
