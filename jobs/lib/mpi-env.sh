# Open MPI settings for running as root on a small machine (sourced).
# Root needs both variables; more ranks than cores needs oversubscription,
# and oversubscribed ranks must yield instead of busy-polling.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
# One machine: shared memory and loopback only, through the ob1 messaging
# layer (the UCX layer Open MPI would pick probes for networks at start-up:
# about 0.2 s of every mpirun here). A cluster's job scripts do not source
# this file and keep the site's choice.
export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader}
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
