#!/bin/bash
# DevStack plugin for Kumo, to DevStack's plugin interface: DevStack sources this file
# with the phase in $1 (stack, unstack, clean) and, for stack, the step in $2
# (pre-install, install, post-config, extra, test-config). See devstack/settings for
# how to enable it. devstack/kumo-lab.sh does the same without DevStack (and is what
# the tests exercise, since DevStack itself cannot run in Kumo's CI).

function install_kumo {
    # The five distributions, editable, into DevStack's Python environment.
    local dist
    for dist in common conductor scheduler compute-agent api; do
        setup_develop "$KUMO_DIR/$dist"
    done
}

function configure_kumo {
    sudo install -d -o "$STACK_USER" "$KUMO_CONF_DIR" "$KUMO_STATE_PATH" \
        "$KUMO_AUTH_CACHE_DIR"
    rm -f "$KUMO_CONF"
    iniset "$KUMO_CONF" DEFAULT state_path "$KUMO_STATE_PATH"
    iniset "$KUMO_CONF" DEFAULT transport_url "$(get_transport_url)"
    iniset "$KUMO_CONF" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset "$KUMO_CONF" database connection "$(database_connection_url kumo)"
    iniset "$KUMO_CONF" api auth_strategy keystone
    iniset "$KUMO_CONF" api listen "$SERVICE_LISTEN_ADDRESS"
    iniset "$KUMO_CONF" api listen_port "$KUMO_SERVICE_PORT"
    iniset "$KUMO_CONF" compute virt_driver "$KUMO_VIRT_DRIVER"
    if is_service_enabled kumo-image-api; then
        iniset "$KUMO_CONF" image_service listen "$SERVICE_LISTEN_ADDRESS"
        iniset "$KUMO_CONF" image_service listen_port "$KUMO_IMAGE_PORT"
        iniset "$KUMO_CONF" glance endpoint "$SERVICE_PROTOCOL://$SERVICE_HOST:$KUMO_IMAGE_PORT"
    else
        iniset "$KUMO_CONF" glance endpoint "$GLANCE_URL"
    fi
    if is_service_enabled kumo-network-api; then
        iniset "$KUMO_CONF" network_service listen "$SERVICE_LISTEN_ADDRESS"
        iniset "$KUMO_CONF" network_service listen_port "$KUMO_NETWORK_PORT"
        iniset "$KUMO_CONF" neutron endpoint \
            "$SERVICE_PROTOCOL://$SERVICE_HOST:$KUMO_NETWORK_PORT"
    fi
    # keystonemiddleware's auth_token, with the "kumo" service user.
    configure_keystone_authtoken_middleware "$KUMO_CONF" kumo
}

function create_kumo_accounts {
    create_service_user kumo admin
    local compute image network
    compute=$(get_or_create_service nova compute "Kumo compute")
    get_or_create_endpoint "$compute" "$REGION_NAME" \
        "$SERVICE_PROTOCOL://$SERVICE_HOST:$KUMO_SERVICE_PORT/v2.1"
    if is_service_enabled kumo-image-api; then
        image=$(get_or_create_service glance image "Kumo image service")
        get_or_create_endpoint "$image" "$REGION_NAME" \
            "$SERVICE_PROTOCOL://$SERVICE_HOST:$KUMO_IMAGE_PORT"
    fi
    if is_service_enabled kumo-network-api; then
        network=$(get_or_create_service neutron network "Kumo network service")
        get_or_create_endpoint "$network" "$REGION_NAME" \
            "$SERVICE_PROTOCOL://$SERVICE_HOST:$KUMO_NETWORK_PORT"
    fi
}

function init_kumo {
    recreate_database kumo
    kumo-manage --config-file "$KUMO_CONF" db sync
    kumo-manage --config-file "$KUMO_CONF" seed
}

function start_kumo {
    local service
    # The conductor first: agents register with it when they start.
    for service in kumo-conductor kumo-scheduler kumo-api kumo-image-api \
                   kumo-network-api kumo-compute; do
        if is_service_enabled "$service"; then
            run_process "$service" "$(which "$service") --config-file $KUMO_CONF"
        fi
    done
}

function stop_kumo {
    local service
    for service in kumo-compute kumo-network-api kumo-image-api kumo-api \
                   kumo-scheduler kumo-conductor; do
        stop_process "$service"
    done
}

function cleanup_kumo {
    sudo rm -rf "$KUMO_STATE_PATH" "$KUMO_AUTH_CACHE_DIR" "$KUMO_CONF_DIR"
}

if is_service_enabled kumo-api; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing Kumo"
        install_kumo
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring Kumo"
        configure_kumo
        create_kumo_accounts
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Initializing and starting Kumo"
        init_kumo
        start_kumo
    fi
    if [[ "$1" == "unstack" ]]; then
        stop_kumo
    fi
    if [[ "$1" == "clean" ]]; then
        cleanup_kumo
    fi
fi
