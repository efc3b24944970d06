"""HealthChain's trivial patient-view card, the peer stratcare's full hook is measured against. Runs in
its own virtual environment (bench/.peers/healthchain), never in stratcare's."""

from healthchain.gateway import CDSHooksService, HealthChainAPI
from healthchain.models import Card, CDSRequest, CDSResponse

app = HealthChainAPI()
cds = CDSHooksService()


@cds.hook("patient-view", id="trivial-card")
def trivial_card(request: CDSRequest) -> CDSResponse:  # noqa: ARG001 - the card ignores the call
    return CDSResponse(cards=[Card(summary="Fixed card", indicator="info", source={"label": "peer"})])


app.register_service(cds)
