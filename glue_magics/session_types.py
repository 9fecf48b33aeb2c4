"""The two kinds of Glue interactive session, and what AWS documents about Spark Connect ones.

Shared by the client (``options``' rules, ``connect``) and the local endpoint
(``local.models``, ``local.connect_proxy``): one place for each fact.  Standard library
only, so ``%load_ext`` may import it.

Sources: botocore's Glue model (1.43.23 on): ``SessionType`` is ``LIVY | SPARK_CONNECT``;
AWS's "Using Spark Connect with AWS Glue interactive sessions" page
(interactive-sessions-spark-connect), "Considerations and limitations" and "Region
availability"; its "connecting" page for the header and the port.
"""

from __future__ import annotations

LIVY, SPARK_CONNECT = "LIVY", "SPARK_CONNECT"
#: "Spark Connect is available for AWS Glue interactive sessions running AWS Glue version
#: 5.1 and later."
SPARK_CONNECT_MIN_VERSION = "5.1"
#: The Spark command.  Every example AWS gives uses ``glueetl``; Ray is not Spark, and
#: streaming sessions are not named: refusing ``glueray`` and ``gluestreaming`` is our
#: choice, not a documented rule.
SPARK_CONNECT_COMMANDS = ("glueetl",)
#: "Fine-grained access control through Lake Formation is not supported for Spark Connect
#: sessions" (sagemaker-studio forces this argument to "false" for them).
LAKE_FORMATION_FGAC = "--enable-lakeformation-fine-grained-access"
#: "Region availability": where the service offers Spark Connect sessions.
SPARK_CONNECT_REGIONS = (
    "ap-south-1",  # Mumbai
    "ap-northeast-2",  # Seoul
    "ap-southeast-1",  # Singapore
    "ap-southeast-2",  # Sydney
    "ap-northeast-1",  # Tokyo
    "ca-central-1",
    "eu-central-1",  # Frankfurt
    "eu-west-1",  # Ireland
    "eu-west-2",  # London
    "eu-west-3",  # Paris
    "eu-north-1",  # Stockholm
    "sa-east-1",  # Sao Paulo
    "us-east-2",
    "us-east-1",
    "us-west-2",
)
#: "The session typically takes 20-30 seconds to reach READY state" (the connecting page).
SPARK_CONNECT_TYPICAL_START_SECONDS = 30.0
#: The gRPC header that carries GetSessionEndpoint's AuthToken (the connecting page's
#: recipe: ``f"{Url}:443/;use_ssl=true;x-aws-proxy-auth={quote(token, safe='')}"``).
TOKEN_HEADER = "x-aws-proxy-auth"
#: The port of a Url that names none (the same recipe).
DEFAULT_PORT = 443
#: The extra that brings pyspark's Spark Connect client.
EXTRA = 'pip install "glue-magics[spark-connect]"'


def version_tuple(text: str) -> tuple[int, ...]:
    """``"5.1"`` -> ``(5, 1)``; a part that is not a number counts as 0."""
    return tuple(int(p) if p.isdigit() else 0 for p in text.split("."))
