//! The CustomResourceDefinitions of the three kinds, generated from the Rust types.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

use super::{Error, yaml};

/// The CRDs of every kind, in a stable order ([`eds_api::crds`]).
pub fn all() -> Vec<CustomResourceDefinition> {
    eds_api::crds()
}

/// File name of a CRD, `<group>_<plural>.yaml` as kubebuilder (and upstream) names them.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// Each CRD as `(file name, YAML with the generated-file header)`.
pub fn files() -> Result<Vec<(String, String)>, Error> {
    all()
        .iter()
        .map(|crd| Ok((file_name(crd), yaml::file(&[yaml::to_yaml(crd)?]))))
        .collect()
}
