"""Operations on deployed stacks: throwaway CI stacks (``pdk ci up/down``), the reaper
(``pdk reap``), post-install checks (``pdk verify``) and the leak report; and, before a deploy,
the time and cost estimate, the resource graph and the preflight checks (``predeploy.py``).

Unlike ``infra.plan`` these talk to a Pulumi backend (through the Automation API, which drives
the Pulumi CLI), to the cluster and to the cloud. Each command's logic lives in its own module;
``commands.py`` only turns options into calls and errors into exit codes.
"""
