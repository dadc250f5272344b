from common.service import run_service
from conversation_service.app import SPEC

if __name__ == "__main__":
    run_service(SPEC)
