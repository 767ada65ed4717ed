"""Imports every feature's models so Alembic and create_all see one metadata."""
from ..features.alerts.models import Alert, AlertAppConfig, AlertAudit  # noqa: F401
from ..features.attendances.models import Attendance, ProtocolCounter  # noqa: F401
from ..features.auth.models import RefreshFamily  # noqa: F401
from ..features.callgroups.models import CallGroup  # noqa: F401
from ..features.callbacks.models import Callback  # noqa: F401
from ..features.calls.models import CallLeg, CallRecord  # noqa: F401
from ..features.reports.models import CALLS_PERIOD, LEGS_BY_KIND, AgentStateSpan  # noqa: F401
from ..features.agents.models import AgentSession, AgentSessionQueue, QueueCall  # noqa: F401
from ..features.dialer.models import Campaign, CampaignBlacklistEntry, CampaignContact, DoNotCallEntry  # noqa: F401
from ..features.domains.models import Domain  # noqa: F401
from ..features.extensions.models import Extension  # noqa: F401
from ..features.ivr.models import IvrStep, IvrTree, Prompt  # noqa: F401
from ..features.persons.models import MonitoredPerson, PersonAttachment  # noqa: F401
from ..features.routes.models import BlacklistEntry, BlacklistRejection, InboundRoute  # noqa: F401
from ..features.monitoring_groups.models import MonitoringGroup, MonitoringGroupMember  # noqa: F401
from ..features.recordings.models import Recording, RecordingPolicy  # noqa: F401
from ..features.queues.models import Queue, QueueExtension  # noqa: F401
from ..features.trunks.models import OutboundRoute, Trunk  # noqa: F401
from ..features.users.models import Membership, User  # noqa: F401
from ..features.webrtc.models import CallQuality  # noqa: F401
from ..features.supervision.models import PanelThreshold  # noqa: F401
from .base import Base  # noqa: F401
from .identity import DeploymentIdentity  # noqa: F401
from .ids import IdMark  # noqa: F401
from ..scheduler import JOBS_TABLE  # noqa: F401
