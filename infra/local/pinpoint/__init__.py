"""Amazon Pinpoint for the local cloud: an in-process emulator and its CloudTrail recorder.

recorder = CloudTrailRecorder(clock=clock, bucket="trail-bucket")
with PinpointEmulator(clock=clock, recorder=recorder) as emulator:
    pinpoint = boto3.client("pinpoint", region_name="us-east-1")  # answered in process
    ...
    clock.advance(60)
    emulator.tick()  # import jobs progress, due CloudTrail log files are written
"""

from .cloudtrail import ApiCall, CloudTrailRecorder
from .emulator import PinpointEmulator
from .endpoints import EndpointLimits
from .errors import PinpointError
from .faults import FaultInjector
from .import_jobs import ImportLimits

__all__ = [
    "ApiCall",
    "CloudTrailRecorder",
    "EndpointLimits",
    "FaultInjector",
    "ImportLimits",
    "PinpointEmulator",
    "PinpointError",
]
