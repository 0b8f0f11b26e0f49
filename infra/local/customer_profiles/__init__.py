"""Amazon Connect Customer Profiles for the local cloud: an in-process emulator.

with CustomerProfilesEmulator(clock=clock, recorder=recorder) as emulator:
    profiles = boto3.client("customer-profiles", region_name="us-east-1")  # answered here
    ...
    clock.advance(5)
    emulator.tick()  # upload jobs run, due CloudTrail log files are written
"""

from .emulator import EVENT_SOURCE, CustomerProfilesEmulator
from .errors import CustomerProfilesError

__all__ = ["EVENT_SOURCE", "CustomerProfilesEmulator", "CustomerProfilesError"]
