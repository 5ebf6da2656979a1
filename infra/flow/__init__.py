"""The PDK flow as stack resources: the train and deploy images, the MLDM pipeline specs, and
the MLDM/MLDE objects (projects, repo, pipelines, workspace) behind dynamic providers."""
