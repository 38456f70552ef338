"""Seeds, through DefectDojo's own models, what its API cannot create without an outside service: a Jira
instance with a project and an issue (the API checks the instance by logging in to it), SonarQube issue
transitions (made by DefectDojo's SonarQube sync), and a risk acceptance's proof file (not in the API's
request schema). Run inside DefectDojo: `run-defectdojo.sh manage shell -c "$(cat seed_orm.py)"`
(scripts/live does), after seed.py.
"""
from django.apps import apps
from django.core.files.base import ContentFile

model = lambda name: apps.get_model("dojo", name)  # noqa: E731  (2.x and 3.x keep them in different modules)
product = model("Product").objects.get(name="live-app")
finding = model("Finding").objects.filter(test__engagement__product=product).order_by("id").first()
jira = model("JIRA_Instance").objects.create(
    configuration_name="Seeded Jira", url="https://jira.invalid", username="seed", password="not-a-real-password",
    default_issue_type="Bug", epic_name_id=1, open_status_key=1, close_status_key=2,
    info_mapping_severity="Lowest", low_mapping_severity="Low", medium_mapping_severity="Medium",
    high_mapping_severity="High", critical_mapping_severity="Highest")
project = model("JIRA_Project").objects.create(jira_instance=jira, project_key="SEED", product=product)
model("JIRA_Issue").objects.create(jira_project=project, jira_id="10001", jira_key="SEED-1", finding=finding)
issue = model("Sonarqube_Issue").objects.create(key="AX-seeded-1", status="OPEN", type="VULNERABILITY")
model("Sonarqube_Issue_Transition").objects.create(sonarqube_issue=issue, finding_status="Active",
                                                   sonarqube_status="OPEN", transitions="confirm")
acceptance = model("Risk_Acceptance").objects.order_by("id").first()
if acceptance is not None:
    acceptance.path.save("seeded-proof.txt", ContentFile(b"seeded proof\n"))
print("seeded through the models: a Jira instance, project and issue; a SonarQube issue and transition; a proof file")
