from django import forms

from projects.models import Project, Task

TOO_LONG = "Keep the {noun} to at most %(limit_value)d characters (this one has %(show_value)d)."


class OneErrorPerFieldForm(forms.ModelForm):
    """A model form that reports, for a field it refused, only its own error.

    A refused value never reaches the instance, so the model's ``clean()``
    judges the stored one: an over-long new name would also read as missing.
    """

    def _post_clean(self) -> None:
        refused = {field: errors.copy() for field, errors in self.errors.items() if field in self.fields}
        super()._post_clean()
        self._errors.update(refused)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class ProjectForm(OneErrorPerFieldForm):
    class Meta:
        model = Project
        fields = ("name", "description", "status", "priority", "start_date", "due_date")
        error_messages = {
            "name": {"max_length": TOO_LONG.format(noun="name")},
            "description": {"max_length": TOO_LONG.format(noun="description")},
        }
        widgets = {
            "name": forms.TextInput(attrs={"placeholder": "e.g. Launch the new website", "autocomplete": "off"}),
            "description": forms.Textarea(attrs={"rows": 4, "placeholder": "What is this project about?"}),
            "start_date": DateInput(),
            "due_date": DateInput(),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Project.clean() says what a missing name means; the form would say it a second time.
        self.fields["name"].required = False


class TaskForm(OneErrorPerFieldForm):
    class Meta:
        model = Task
        fields = ("title", "description", "status", "priority", "due_date", "estimate_hours")
        labels = {"title": "Task", "estimate_hours": "Estimate (hours)"}
        error_messages = {
            "title": {"max_length": TOO_LONG.format(noun="title")},
            "description": {"max_length": TOO_LONG.format(noun="description")},
        }
        widgets = {
            "title": forms.TextInput(attrs={"autocomplete": "off"}),
            "description": forms.Textarea(attrs={"rows": 2, "placeholder": "Details (optional)"}),
            "due_date": DateInput(),
            "estimate_hours": forms.NumberInput(attrs={"step": "0.5", "min": "0"}),
        }
        help_texts = {"estimate_hours": ""}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Task.clean() says what a missing title means; the form would say it a second time.
        self.fields["title"].required = False


class TaskAddForm(TaskForm):
    """The one-line form above the task list: a title, and optionally priority and due date."""

    class Meta(TaskForm.Meta):
        fields = ("title", "priority", "due_date")
        widgets = {
            "title": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Add a task…"}),
            "due_date": DateInput(),
        }
        labels = {"title": "New task", "due_date": "Due"}

    def __init__(self, *args, keep_typed: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if keep_typed:
            # When another change swaps in a fresh task region, htmx keeps what is being typed here.
            for field in self.fields.values():
                field.widget.attrs["hx-preserve"] = "true"


class TaskStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Task.Status.choices)
    before = forms.CharField(required=False, max_length=64)
    end = forms.BooleanField(required=False)


class TaskMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])
    within_status = forms.BooleanField(required=False)


class ProjectFilterForm(forms.Form):
    ARCHIVED = "archived"

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search by name…", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "All current"), *Project.Status.choices, (ARCHIVED, "Archived")],
    )

    def filter(self, projects):
        """The projects matching the form; an invalid filter shows all current projects."""
        if not self.is_valid():
            return projects.active()
        status = self.cleaned_data["status"]
        if status == self.ARCHIVED:
            projects = projects.archived()
        else:
            projects = projects.active()
            if status:
                projects = projects.filter(status=status)
        return projects.search(self.cleaned_data["q"])


class DraftForm(ProjectForm):
    """The project fields of a draft, by the project form's own rules."""

    class Meta(ProjectForm.Meta):
        fields = ("name", "description", "priority", "start_date", "due_date")
        widgets = {**ProjectForm.Meta.widgets, "description": forms.Textarea(attrs={"rows": 3})}


class DraftTaskForm(TaskForm):
    """One task of a draft, by the task form's own rules."""

    class Meta(TaskForm.Meta):
        fields = ("title", "description", "priority", "estimate_hours", "due_date")
        labels = {**TaskForm.Meta.labels, "title": "Title", "estimate_hours": "Hours"}


DraftTaskFormSet = forms.formset_factory(DraftTaskForm, extra=0, max_num=50, absolute_max=50, validate_max=True)
