"""The test world is the demo's world (plugin/demo): one definition, so the demo shows what is tested."""

from plugin.demo.server import RecordingMotoServer, enable_iam_enforcement, operation_of  # noqa: F401
from plugin.demo.world import *  # noqa: F401,F403
from plugin.demo.world import World, build_world  # noqa: F401
