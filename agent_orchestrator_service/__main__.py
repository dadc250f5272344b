from agent_orchestrator_service.app import SPEC
from common.service import run_service

if __name__ == "__main__":
    run_service(SPEC)
