"""The shared test kit every component's tests import: free ports, live processes (start, wait, stop), the
backend as `python -m app`, applicant and traffic generators."""
