from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import views
from .reference import reference_view

app_name = "api"

router = SimpleRouter()
router.register("plans", views.PlanViewSet, basename="plan")
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("plan-departments", views.PlanDepartmentViewSet, basename="plandepartment")
router.register("strategic-goals", views.StrategicGoalViewSet, basename="strategicgoal")
router.register("policy-goals", views.PolicyGoalViewSet, basename="policygoal")
router.register("indicators", views.IndicatorViewSet, basename="indicator")
router.register("period-targets", views.PeriodTargetViewSet, basename="periodtarget")
router.register("results", views.ResultViewSet, basename="result")
router.register("change-log", views.ChangeLogViewSet, basename="changelog")

urlpatterns = [
    path("", reference_view, name="reference"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include(router.urls)),
]
