"""Amazon Connect outbound campaigns v2 for the local cloud: an in-process emulator.

with ConnectCampaignsEmulator(clock=clock, recorder=recorder, instance_ids=(iid,)) as emu:
    campaigns = boto3.client("connectcampaignsv2", region_name="us-east-1")  # answered here
"""

from .emulator import EVENT_SOURCE, ConnectCampaignsEmulator
from .errors import CampaignsError

__all__ = ["EVENT_SOURCE", "CampaignsError", "ConnectCampaignsEmulator"]
