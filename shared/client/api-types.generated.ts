// Generated from functions/openapi.json by openapi-typescript (`npm run openapi`). DO NOT EDIT.
// A test fails when this file and the document drift apart.

export interface paths {
    "/api/v1.0/bootactions/{action_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A node reports an action's progress (details become messages on the deploy task) and its final status */
        post: operations["reportBootAction"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/bootactions/actions/{action_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One boot action and its status */
        get: operations["getBootAction"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/bootactions/nodes/{hostname}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A node's boot actions and their statuses (what bootaction_report polls) */
        get: operations["listBootActions"];
        put?: never;
        /** Create (or replace) a node's boot-action context: its key, returned in this answer only, and one action per name */
        post: operations["createBootActionContext"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/bootactions/nodes/{hostname}/files": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The node's rendered file assets as a gzipped tarball (authenticated by the node's key) */
        get: operations["getBootActionFiles"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/bootactions/nodes/{hostname}/units": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The node's rendered unit assets as a gzipped tarball (authenticated by the node's key) */
        get: operations["getBootActionUnits"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/designs/resolve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Resolve a design reference: its documents, count per kind, sha256, size and validation messages */
        post: operations["resolveDesign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: 204 when the database answers, 503 otherwise; writes nothing */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/health/extended": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Drydock's HealthCheck Status body (database, lease) */
        get: operations["healthExtended"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/leader": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The lease as the database sees it (holder, epoch, expiry, active) */
        get: operations["getLease"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/leader/abdicate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Give the lease up now */
        post: operations["abdicateLease"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/leader/claim": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Claim the lease (or refresh it when held); `held` says who won */
        post: operations["claimLease"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/leader/renew": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Extend the holder's lease */
        post: operations["renewLease"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/leader/requeue": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The holder recovers dead epochs' work (after a takeover): their running top-level tasks requeued, their other unfinished tasks terminated */
        post: operations["requeueStranded"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/nodefilter": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Drydock's node filter: the names of the design's nodes the filter selects (every node without a filter) */
        post: operations["selectNodes"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/nodes/{node_name}/builddata": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A node's build data: newest per generator (latest, default) or all, newest first (next page: X-Next-Cursor / Link) */
        get: operations["getNodeBuildData"];
        put?: never;
        /** Record build data for a node: one item or an array of up to 100 */
        post: operations["postNodeBuildData"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This OpenAPI 3.1 document */
        get: operations["openapi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/queue": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Queue depth, the oldest queued task, and running tasks that are stale or stranded by a dead lease epoch */
        get: operations["getQueueHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/tasks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List tasks, newest first: without limit every task with its messages (as Drydock) up to the answer bound, with limit a page at a time; the rest: X-Next-Cursor / Link */
        get: operations["listTasks"];
        put?: never;
        /** Create a top-level task (status queued, the 8 user actions), or with the lease holder's epoch an internal one (any action, status requested); Idempotency-Key makes retries safe */
        post: operations["createTask"];
        /** Purge finished task trees older than `days` (default RETENTION_DAYS); never running ones */
        delete: operations["purgeTasks"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/tasks/{task_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A task with its messages; builddata, subtaskerrors, layers=N|-1 as Drydock */
        get: operations["getTask"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Conditionally change status, result or retry (If-Match: the version read; or the lease epoch) */
        patch: operations["updateTask"];
        trace?: never;
    };
    "/api/v1.0/tasks/{task_id}/builddata": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Build data recorded under a task, newest first (next page: X-Next-Cursor / Link) */
        get: operations["getTaskBuildData"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/tasks/{task_id}/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A page of a task's messages after sequence `after` (next page: X-Next-Cursor / Link) */
        get: operations["listMessages"];
        put?: never;
        /** Append one message or an array of them (in order, numbered without gaps) */
        post: operations["appendMessages"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/tasks/{task_id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Drydock's retry_task(max_attempts): run a finished task again for its failed entities (epoch required) */
        post: operations["retryTask"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/tasks/{task_id}/rollup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Roll finished subtasks' results up into the task: Drydock's bubble_results and align_result, either or both (epoch required) */
        post: operations["rollUpResults"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/tasks/{task_id}/subtasks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Subtasks in registration order (which=all|active|complete; next page: X-Next-Cursor / Link) */
        get: operations["listSubtasks"];
        put?: never;
        /** The lease holder registers a subtask (status requested; epoch required); refused while the parent is terminating */
        post: operations["createSubtask"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/tasks/{task_id}/terminate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Request termination (recursive: also every unfinished descendant) */
        post: operations["terminateTask"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/tasks/claim": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The lease holder claims the oldest queued tasks (fenced by its epoch) */
        post: operations["claimTasks"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/tasks/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The lease holder ends many tasks in one statement, each with its result (fenced by its epoch) */
        post: operations["completeTasks"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1.0/validatedesign": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Drydock's design validation (document schemas, effective site, 18 rules): 200 with code 200 when valid, 400 with code 400 otherwise */
        post: operations["validateDesign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/versions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Supported API versions */
        get: operations["versions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        BootAction: {
            action_id: string;
            action_name: string;
            /** @enum {string} */
            action_status: "incomplete" | "success" | "failure" | "unreported";
            node_name: string;
            task_id: string;
        };
        BuildData: {
            collected_date: string;
            data_element?: string;
            data_format: string;
            generator: string;
            node_name: string;
            task_id: string;
        };
        ClaimRequest: {
            actions?: ("noop" | "validate_design" | "verify_site" | "prepare_site" | "verify_nodes" | "prepare_nodes" | "deploy_nodes" | "destroy_nodes" | "relabel_nodes" | "bootaction_report" | "validate_oob_services" | "config_node_pxe" | "set_node_boot" | "power_off_node" | "power_on_node" | "power_cycle_node" | "interrogate_oob" | "validate_node_services" | "create_network_template" | "create_storage_template" | "create_boot_media" | "configure_user_credentials" | "configure_node_provisioner" | "prepare_hardware_config" | "identify_node" | "configure_hardware" | "interrogate_node" | "apply_node_networking" | "apply_node_storage" | "apply_node_platform" | "deploy_node" | "destroy_node" | "validate_network_services" | "interrogate_port" | "config_port_provisioning" | "config_port_production" | "relabel_node")[];
            /** @description Lease epoch (fencing token). */
            epoch: number;
            /** @description The orchestrator instance id. */
            instance_id: string;
            limit?: number;
        };
        CompleteTasksAnswer: {
            tasks: components["schemas"]["CompletionOutcome"][];
        };
        CompleteTasksRequest: {
            /** @description The lease holder's epoch (fenced). */
            epoch: number;
            tasks: {
                result?: components["schemas"]["ResultChange"];
                /**
                 * @description Where the task ends: complete (default) or terminated.
                 * @enum {string}
                 */
                status?: "complete" | "terminated";
                /**
                 * Format: uuid
                 * @description A task id (UUID).
                 */
                task_id: string;
            }[];
        };
        CompletionOutcome: {
            /**
             * @description completed: moved now; already: it was at that status (a replay), left as it was; refused: its status cannot move there; missing: no such task.
             * @enum {string}
             */
            outcome: "completed" | "already" | "refused" | "missing";
            status: ("requested" | "queued" | "running" | "terminating" | "terminated" | "complete") | null;
            /**
             * Format: uuid
             * @description A task id (UUID).
             */
            task_id: string;
            version: number | null;
        };
        CreateSubtaskRequest: {
            /** @enum {string} */
            action: "noop" | "validate_design" | "verify_site" | "prepare_site" | "verify_nodes" | "prepare_nodes" | "deploy_nodes" | "destroy_nodes" | "relabel_nodes" | "bootaction_report" | "validate_oob_services" | "config_node_pxe" | "set_node_boot" | "power_off_node" | "power_on_node" | "power_cycle_node" | "interrogate_oob" | "validate_node_services" | "create_network_template" | "create_storage_template" | "create_boot_media" | "configure_user_credentials" | "configure_node_provisioner" | "prepare_hardware_config" | "identify_node" | "configure_hardware" | "interrogate_node" | "apply_node_networking" | "apply_node_storage" | "apply_node_platform" | "deploy_node" | "destroy_node" | "validate_network_services" | "interrogate_port" | "config_port_provisioning" | "config_port_production" | "relabel_node";
            design_ref?: string | null;
            /** @description The lease holder's epoch (required, fenced). */
            epoch?: number;
            node_filter?: components["schemas"]["NodeFilter"] | null;
            /** @description The retry sequence of the attempt creating it (Drydock's create_task(retry=…)). */
            retry?: number;
            /**
             * Format: uuid
             * @description Caller-chosen id (idempotent retry).
             */
            task_id?: string;
        };
        CreateTaskRequest: {
            /** @enum {string} */
            action: "noop" | "validate_design" | "verify_site" | "prepare_site" | "verify_nodes" | "prepare_nodes" | "deploy_nodes" | "destroy_nodes" | "relabel_nodes" | "bootaction_report" | "validate_oob_services" | "config_node_pxe" | "set_node_boot" | "power_off_node" | "power_on_node" | "power_cycle_node" | "interrogate_oob" | "validate_node_services" | "create_network_template" | "create_storage_template" | "create_boot_media" | "configure_user_credentials" | "configure_node_provisioner" | "prepare_hardware_config" | "identify_node" | "configure_hardware" | "interrogate_node" | "apply_node_networking" | "apply_node_storage" | "apply_node_platform" | "deploy_node" | "destroy_node" | "validate_network_services" | "interrogate_port" | "config_port_provisioning" | "config_port_production" | "relabel_node";
            /** @description Required for a caller's task; optional for an internal task. */
            design_ref?: string | null;
            /** @description The lease holder's epoch: creates an internal task (any action, status requested), fenced. */
            epoch?: number;
            node_filter?: components["schemas"]["NodeFilter"] | null;
        };
        Error: {
            issues?: {
                message: string;
                path: string;
            }[];
            message: string;
            request_id?: string;
            retry: boolean;
            /** @constant */
            type: "error";
        };
        Lease: {
            acquired_at: string;
            active: boolean;
            db_now: string;
            epoch: number;
            expires_at: string;
            held?: boolean;
            holder: string;
            renewed_at: string;
        };
        LeaseAbdicateRequest: {
            /** @description Lease epoch (fencing token). */
            epoch: number;
            /** @description The orchestrator instance id. */
            instance_id: string;
        };
        LeaseClaimRequest: {
            /** @description Seconds without renewal before another instance may take over (default LEASE_GRACE_SECONDS). */
            grace_seconds?: number;
            /** @description The orchestrator instance id. */
            instance_id: string;
        };
        LeaseRenewRequest: {
            /** @description Lease epoch (fencing token). */
            epoch: number;
            /** @description Seconds without renewal before another instance may take over (default LEASE_GRACE_SECONDS). */
            grace_seconds?: number;
            /** @description The orchestrator instance id. */
            instance_id: string;
        };
        NewBuildData: {
            /**
             * Format: date-time
             * @description ISO-8601 timestamp.
             */
            collected_date?: string;
            data_element: string;
            data_format: string;
            generator: string;
            /** @description A replay with the same key writes nothing. */
            idempotency_key?: string;
            /**
             * Format: uuid
             * @description A task id (UUID).
             */
            task_id: string;
        };
        NewMessage: {
            context: string;
            context_type: string;
            error: boolean;
            extra?: {
                [key: string]: unknown;
            };
            /** @description A replay with the same key writes nothing. */
            idempotency_key?: string;
            message: string;
            /**
             * Format: date-time
             * @description ISO-8601 timestamp.
             */
            ts?: string;
        };
        /** @description Narrows a task to a set of nodes. */
        NodeFilter: {
            filter_set: {
                /** @enum {string} */
                filter_type: "union" | "intersection";
                node_labels?: {
                    [key: string]: string;
                };
                node_names?: string[];
                node_tags?: string[];
                rack_labels?: {
                    [key: string]: string;
                };
                rack_names?: string[];
            }[];
            /** @enum {string} */
            filter_set_type: "union" | "intersection";
        };
        QueueHealth: {
            db_now: string;
            lease_epoch: number | null;
            oldest_queued: {
                action: string;
                age_seconds: number;
                created: string;
                task_id: string;
            } | null;
            queued: number;
            running: number;
            stale: number;
            stale_after_seconds: number;
            stranded: number;
            stuck: {
                action: string;
                active_at: string;
                claimed_epoch: number | null;
                idle_seconds: number;
                parent_task_id: string | null;
                stale: boolean;
                status: string;
                stranded: boolean;
                task_id: string;
            }[];
        };
        RequeueRequest: {
            /** @description Lease epoch (fencing token). */
            epoch: number;
            /** @description The orchestrator instance id. */
            instance_id: string;
            limit?: number;
        };
        ResultChange: {
            add_failures?: string[];
            add_links?: {
                href: string;
                rel: string;
            }[];
            add_successes?: string[];
            message?: string | null;
            reason?: string | null;
            /** @enum {string} */
            status?: "incomplete" | "success" | "partial_success" | "failure" | "unreported";
        };
        RetryRequest: {
            /** @description The lease holder's epoch (required, fenced). */
            epoch?: number;
            /** @description Drydock's max_attempts: absent or 0 is no limit. */
            max_attempts?: number;
        };
        /** @description Without bubble and align, both run without a filter (bubble_results(); align_result()). */
        RollupRequest: {
            /** @description Run Drydock's align_result(action_filter, reset_status=true): the result status from the finished subtasks. */
            align?: {
                action_filter?: ("noop" | "validate_design" | "verify_site" | "prepare_site" | "verify_nodes" | "prepare_nodes" | "deploy_nodes" | "destroy_nodes" | "relabel_nodes" | "bootaction_report" | "validate_oob_services" | "config_node_pxe" | "set_node_boot" | "power_off_node" | "power_on_node" | "power_cycle_node" | "interrogate_oob" | "validate_node_services" | "create_network_template" | "create_storage_template" | "create_boot_media" | "configure_user_credentials" | "configure_node_provisioner" | "prepare_hardware_config" | "identify_node" | "configure_hardware" | "interrogate_node" | "apply_node_networking" | "apply_node_storage" | "apply_node_platform" | "deploy_node" | "destroy_node" | "validate_network_services" | "interrogate_port" | "config_port_provisioning" | "config_port_production" | "relabel_node") | null;
                reset_status?: boolean;
            };
            /** @description Run Drydock's bubble_results(action_filter): successes and failures from the finished subtasks. */
            bubble?: {
                action_filter?: ("noop" | "validate_design" | "verify_site" | "prepare_site" | "verify_nodes" | "prepare_nodes" | "deploy_nodes" | "destroy_nodes" | "relabel_nodes" | "bootaction_report" | "validate_oob_services" | "config_node_pxe" | "set_node_boot" | "power_off_node" | "power_on_node" | "power_cycle_node" | "interrogate_oob" | "validate_node_services" | "create_network_template" | "create_storage_template" | "create_boot_media" | "configure_user_credentials" | "configure_node_provisioner" | "prepare_hardware_config" | "identify_node" | "configure_hardware" | "interrogate_node" | "apply_node_networking" | "apply_node_storage" | "apply_node_platform" | "deploy_node" | "destroy_node" | "validate_network_services" | "interrogate_port" | "config_port_provisioning" | "config_port_production" | "relabel_node") | null;
            };
            /** @description The lease holder's epoch (required, fenced). */
            epoch?: number;
        };
        Task: {
            /** @enum {string} */
            action: "noop" | "validate_design" | "verify_site" | "prepare_site" | "verify_nodes" | "prepare_nodes" | "deploy_nodes" | "destroy_nodes" | "relabel_nodes" | "bootaction_report" | "validate_oob_services" | "config_node_pxe" | "set_node_boot" | "power_off_node" | "power_on_node" | "power_cycle_node" | "interrogate_oob" | "validate_node_services" | "create_network_template" | "create_storage_template" | "create_boot_media" | "configure_user_credentials" | "configure_node_provisioner" | "prepare_hardware_config" | "identify_node" | "configure_hardware" | "interrogate_node" | "apply_node_networking" | "apply_node_storage" | "apply_node_platform" | "deploy_node" | "destroy_node" | "validate_network_services" | "interrogate_port" | "config_port_provisioning" | "config_port_production" | "relabel_node";
            /** @constant */
            apiVersion: "v1";
            build_data?: components["schemas"]["BuildData"][];
            created: string;
            created_by: string | null;
            design_ref: string | null;
            /** @constant */
            kind: "Task";
            node_filter: {
                [key: string]: unknown;
            } | null;
            parent_task_id: string | null;
            result: components["schemas"]["TaskStatus"];
            retry: number;
            /** @enum {string} */
            status: "requested" | "queued" | "running" | "terminating" | "terminated" | "complete";
            subtask_errors?: {
                [key: string]: components["schemas"]["TaskStatus"];
            };
            subtask_id_list: string[];
            task_id: string;
            terminate: boolean;
            terminated: string | null;
            terminated_by: string | null;
            truncated?: components["schemas"]["Truncation"];
            updated: string;
            version: number;
        };
        TaskStatus: {
            /** @constant */
            apiVersion: "v1.0";
            details: {
                errorCount: number;
                messageList: components["schemas"]["TaskStatusMessage"][];
            };
            failures: string[];
            /** @constant */
            kind: "Status";
            links: {
                href: string;
                rel: string;
            }[];
            message: string | null;
            metadata: {
                [key: string]: unknown;
            };
            reason: string | null;
            /** @enum {string} */
            status: "incomplete" | "success" | "partial_success" | "failure" | "unreported";
            successes: string[];
            task_id?: string;
        };
        TaskStatusMessage: {
            context: string;
            context_type: string;
            error: boolean;
            extra: {
                [key: string]: unknown;
            };
            message: string;
            sequence: number;
            ts: string;
        };
        TerminateRequest: {
            recursive?: boolean;
        };
        /** @description Present when embedded messages, build data (or, in a tree, tasks) were cut to keep the answer within its bound. */
        Truncation: {
            /** @description Embedded build data was cut: page it from next. */
            build_data?: {
                next: string;
            };
            messages?: {
                /** @description Where the rest is read, a page at a time. */
                next: string;
                shown: number;
                total: number;
            };
            tasks?: {
                /** @description Where the rest is read, a page at a time. */
                next: string;
                shown: number;
                total: number;
            };
        };
        UpdateTaskRequest: {
            /** @description The lease holder's epoch (fenced); without it, If-Match is required. */
            epoch?: number;
            result?: components["schemas"]["ResultChange"];
            retry?: number;
            /** @enum {string} */
            status?: "requested" | "queued" | "running" | "terminating" | "terminated" | "complete";
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    reportBootAction: {
        parameters: {
            query?: never;
            header?: {
                /** @description required; the node's key, 64 hex digits (401 without it, 403 when wrong) */
                "X-Bootaction-Key"?: string;
            };
            path: {
                action_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    details?: ({
                        error: boolean;
                        message: string;
                    } & {
                        [key: string]: unknown;
                    })[];
                    /** @enum {string} */
                    status?: "Failure" | "Success" | "failure" | "success";
                };
            };
        };
        responses: {
            /** @description The action after the report */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BootAction"];
                };
            };
            /** @description Bad body or status */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No X-Bootaction-Key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Wrong X-Bootaction-Key */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such action */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The action is already final */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Body or a detail too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getBootAction: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A boot action's ULID (26 characters, Crockford base32). */
                action_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The action */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BootAction"];
                };
            };
            /** @description Not an action id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such action */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listBootActions: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                hostname: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Oldest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BootAction"][];
                };
            };
            /** @description The node has no boot-action context */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createBootActionContext: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                hostname: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    actions: {
                        /** @description The BootAction document name. */
                        name: string;
                        /** @description false: no report expected (status `unreported`). */
                        signaling?: boolean;
                    }[];
                    /** @description The lease holder's epoch (required, fenced). */
                    epoch?: number;
                    /**
                     * Format: uuid
                     * @description The deploy task (Drydock: the DeployNode driver task).
                     */
                    task_id: string;
                };
            };
        };
        responses: {
            /** @description Created; `identity_key` is shown here only (the service keeps its hash) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        actions: components["schemas"]["BootAction"][];
                        design_ref: string | null;
                        identity_key: string;
                        node_name: string;
                        task_id: string;
                    };
                };
            };
            /** @description Bad body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such task */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Stale lease epoch */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No lease epoch */
            428: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getBootActionFiles: {
        parameters: {
            query?: never;
            header?: {
                /** @description required; the node's key, 64 hex digits (401 without it, 403 when wrong) */
                "X-Bootaction-Key"?: string;
            };
            path: {
                hostname: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description application/gzip: <hostname>-file.tar.gz, one file per asset at its path with its mode */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No X-Bootaction-Key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Wrong X-Bootaction-Key */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The node has no boot-action context */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description An asset cannot be rendered (the design is at fault) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The design or an asset location could not be fetched */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getBootActionUnits: {
        parameters: {
            query?: never;
            header?: {
                /** @description required; the node's key, 64 hex digits (401 without it, 403 when wrong) */
                "X-Bootaction-Key"?: string;
            };
            path: {
                hostname: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description application/gzip: <hostname>-unit.tar.gz, one file per asset at its path with its mode */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No X-Bootaction-Key */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Wrong X-Bootaction-Key */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The node has no boot-action context */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description An asset cannot be rendered (the design is at fault) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The design or an asset location could not be fetched */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    resolveDesign: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    design_ref: string;
                };
            };
        };
        responses: {
            /** @description The resolved design */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description Invalid or refused reference, unreadable YAML, or a design past the YAML limits */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The design is larger than DESIGN_MAX_BYTES */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The source failed or refused the service */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The source did not answer in time */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Healthy */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Database unreachable */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    healthExtended: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Healthy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unhealthy */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    getLease: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The lease */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Lease"];
                };
            };
            /** @description Nobody ever claimed it */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    abdicateLease: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LeaseAbdicateRequest"];
            };
        };
        responses: {
            /** @description Given up */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not the holder at that epoch */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    claimLease: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LeaseClaimRequest"];
            };
        };
        responses: {
            /** @description The lease after the claim */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Lease"];
                };
            };
            /** @description Bad body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    renewLease: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LeaseRenewRequest"];
            };
        };
        responses: {
            /** @description The renewed lease */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Lease"];
                };
            };
            /** @description Bad body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The lease lapsed or another instance holds it */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    requeueStranded: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RequeueRequest"];
            };
        };
        responses: {
            /** @description Counts; more = call again */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        more: boolean;
                        requeued: number;
                        terminated: number;
                    };
                };
            };
            /** @description Bad body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not the holder at that epoch */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    selectNodes: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    design_ref: string;
                    node_filter?: components["schemas"]["NodeFilter"] | null;
                };
            };
        };
        responses: {
            /** @description Node names, in design order */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": string[];
                };
            };
            /** @description Invalid filter or reference, unreadable YAML, or a design that cannot be compiled (its errors listed in issues) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The design is larger than DESIGN_MAX_BYTES */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The source failed; retry */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The source did not answer in time; retry */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getNodeBuildData: {
        parameters: {
            query?: {
                /** @description Opaque cursor from the X-Next-Cursor header of the previous page. */
                cursor?: string;
                /** @description Newest row per generator (default true). */
                latest?: string;
                limit?: string;
                /** @description Only build data recorded under this task. */
                task_id?: string;
                verbosity?: "1" | "2";
            };
            header?: never;
            path: {
                node_name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Build data */
            200: {
                headers: {
                    /** @description cursor of the rest, when the answer stopped at its bound */
                    "X-Next-Cursor"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BuildData"][];
                };
            };
            /** @description Bad query */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No build data found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    postNodeBuildData: {
        parameters: {
            query?: never;
            header?: {
                /** @description optional; a replayed batch stores nothing */
                "Idempotency-Key"?: string;
            };
            path: {
                node_name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NewBuildData"] | components["schemas"]["NewBuildData"][] | {
                    /** @description Lease epoch (fencing token). */
                    epoch: number;
                    items: components["schemas"]["NewBuildData"][];
                };
            };
        };
        responses: {
            /** @description Stored (without payloads; duplicates: replays skipped) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        duplicates: number;
                        inserted: components["schemas"]["BuildData"][];
                    };
                };
            };
            /** @description Bad body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Stale lease epoch */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Body too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    openapi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OpenAPI 3.1 document */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getQueueHealth: {
        parameters: {
            query?: {
                /** @description Seconds without a change or message after which a running task counts as stale (default 1800). */
                stale_after?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Queue health */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QueueHealth"];
                };
            };
            /** @description Bad stale_after */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listTasks: {
        parameters: {
            query?: {
                action?: "noop" | "validate_design" | "verify_site" | "prepare_site" | "verify_nodes" | "prepare_nodes" | "deploy_nodes" | "destroy_nodes" | "relabel_nodes" | "bootaction_report" | "validate_oob_services" | "config_node_pxe" | "set_node_boot" | "power_off_node" | "power_on_node" | "power_cycle_node" | "interrogate_oob" | "validate_node_services" | "create_network_template" | "create_storage_template" | "create_boot_media" | "configure_user_credentials" | "configure_node_provisioner" | "prepare_hardware_config" | "identify_node" | "configure_hardware" | "interrogate_node" | "apply_node_networking" | "apply_node_storage" | "apply_node_platform" | "deploy_node" | "destroy_node" | "validate_network_services" | "interrogate_port" | "config_port_provisioning" | "config_port_production" | "relabel_node";
                created_by?: string;
                /** @description Opaque cursor from the X-Next-Cursor header of the previous page. */
                cursor?: string;
                /** @description Page size. Without limit (and cursor) every matching task comes back, with its messages, as Drydock answers. */
                limit?: string;
                /** @description A task id (UUID). */
                parent_task_id?: string;
                status?: "requested" | "queued" | "running" | "terminating" | "terminated" | "complete";
                /** @description true/false, yes/no, on/off, t/f, 1/0 (any case); a bare flag is true. */
                top_level?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A JSON array of tasks */
            200: {
                headers: {
                    /** @description cursor of the next page */
                    "X-Next-Cursor"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"][];
                };
            };
            /** @description Bad filter, limit or cursor */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createTask: {
        parameters: {
            query?: never;
            header?: {
                /** @description optional; a replay returns the first task with 200 */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateTaskRequest"];
            };
        };
        responses: {
            /** @description Replay of an Idempotency-Key: the task it created */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description Created */
            201: {
                headers: {
                    /** @description the task URL */
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description Bad body or unsupported action */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Stale lease epoch (internal task) */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Body too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    purgeTasks: {
        parameters: {
            query?: {
                /** @description Purge finished tasks older than this many days; missing, empty or None: RETENTION_DAYS. */
                days?: ("" | "None" | "none" | "NONE" | "null") | string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Counts */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        days: number;
                        deleted_tasks: number;
                        message: string;
                        more: boolean;
                    };
                };
            };
            /** @description days is not a positive integer */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getTask: {
        parameters: {
            query?: {
                /** @description true/false, yes/no, on/off, t/f, 1/0 (any case); a bare flag is true. */
                builddata?: string;
                /** @description 0 = the task only; N = N layers as a map; -1 = the whole tree. */
                layers?: string;
                /** @description true/false, yes/no, on/off, t/f, 1/0 (any case); a bare flag is true. */
                subtaskerrors?: string;
                /** @description With wait: answer once the task version passes this one (default: the version when the wait starts). */
                version?: string;
                /** @description Seconds to wait for a change before answering (cut to WAIT_MAX_SECONDS, 25 by default; the X-Wait header says changed or timeout). */
                wait?: string;
            };
            header?: never;
            path: {
                /** @description A task id (UUID). */
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The task, or with layers the map {init_task_id, <id>: task, …} */
            200: {
                headers: {
                    /** @description the task version */
                    ETag?: string;
                    /** @description with wait: changed, or timeout (the task did not change within the wait) */
                    "X-Wait"?: string;
                    /** @description with wait: the seconds actually waited at most, when less than asked */
                    "X-Wait-Limited-To"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"] | {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description Bad id or query */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such task */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    updateTask: {
        parameters: {
            query?: never;
            header?: {
                /** @description the version (ETag) the change is based on; required unless the body has epoch */
                "If-Match"?: string;
            };
            path: {
                /** @description A task id (UUID). */
                task_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateTaskRequest"];
            };
        };
        responses: {
            /** @description The task after the change */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description Bad body or If-Match */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such task */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Version moved on, or the status move is not allowed */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Stale lease epoch */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Neither If-Match nor epoch */
            428: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getTaskBuildData: {
        parameters: {
            query?: {
                /** @description Opaque cursor from the X-Next-Cursor header of the previous page. */
                cursor?: string;
                limit?: string;
                verbosity?: "1" | "2";
            };
            header?: never;
            path: {
                /** @description A task id (UUID). */
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Build data */
            200: {
                headers: {
                    /** @description cursor of the rest, when the answer stopped at its bound */
                    "X-Next-Cursor"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BuildData"][];
                };
            };
            /** @description Bad id or query */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No build data for this task */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listMessages: {
        parameters: {
            query?: {
                /** @description Sequence to start after. */
                after?: string;
                limit?: string;
                /** @description With wait: also answer once the task version passes this one (a status or result change), for a follower that stops when the task ends. */
                version?: string;
                /** @description Seconds to wait for a change before answering (cut to WAIT_MAX_SECONDS, 25 by default; the X-Wait header says changed or timeout). */
                wait?: string;
            };
            header?: never;
            path: {
                /** @description A task id (UUID). */
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Messages in sequence order */
            200: {
                headers: {
                    /** @description with wait: changed (a message after `after` exists), or timeout */
                    "X-Wait"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskStatusMessage"][];
                };
            };
            /** @description Bad id or query */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such task */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    appendMessages: {
        parameters: {
            query?: never;
            header?: {
                /** @description optional; a replayed batch appends nothing */
                "Idempotency-Key"?: string;
            };
            path: {
                /** @description A task id (UUID). */
                task_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NewMessage"] | components["schemas"]["NewMessage"][] | {
                    /** @description Lease epoch (fencing token). */
                    epoch: number;
                    messages: components["schemas"]["NewMessage"][];
                };
            };
        };
        responses: {
            /** @description Appended (duplicates: replays skipped) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        appended: components["schemas"]["TaskStatusMessage"][];
                        duplicates: number;
                    };
                };
            };
            /** @description Bad body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such task */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Stale lease epoch */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Body too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    retryTask: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A task id (UUID). */
                task_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RetryRequest"];
            };
        };
        responses: {
            /** @description retried: false when there was nothing to retry (the task is unchanged) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        retried: boolean;
                        task: components["schemas"]["Task"];
                    };
                };
            };
            /** @description Bad id or body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such task */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Out of attempts (the task says so too), or the task is terminated or not yet run */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Stale lease epoch */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No epoch */
            428: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    rollUpResults: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A task id (UUID). */
                task_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RollupRequest"];
            };
        };
        responses: {
            /** @description The task after the roll-up */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description Bad id or body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such task */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The bubbled lists would pass a task's bound (48 KiB of JSON): refused whole, nothing written */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Stale lease epoch */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No epoch */
            428: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listSubtasks: {
        parameters: {
            query?: {
                /** @description Opaque cursor from the X-Next-Cursor header of the previous page. */
                cursor?: string;
                which?: "all" | "active" | "complete";
            };
            header?: never;
            path: {
                /** @description A task id (UUID). */
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Subtasks */
            200: {
                headers: {
                    /** @description cursor of the rest, when the answer stopped at its bound */
                    "X-Next-Cursor"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"][];
                };
            };
            /** @description Bad id or query */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createSubtask: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A task id (UUID). */
                task_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateSubtaskRequest"];
            };
        };
        responses: {
            /** @description Replay (same task_id or Idempotency-Key) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description Created */
            201: {
                headers: {
                    /** @description the subtask URL */
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"];
                };
            };
            /** @description Bad body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such parent */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The parent is terminating */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Stale lease epoch */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No epoch */
            428: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    terminateTask: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A task id (UUID). */
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["TerminateRequest"];
            };
        };
        responses: {
            /** @description The tasks this changed, the root first, up to the answer bound (X-Total-Count: how many it changed) */
            200: {
                headers: {
                    /** @description how many tasks it changed (more than listed when cut) */
                    "X-Total-Count"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"][];
                };
            };
            /** @description Bad id or body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such task */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    claimTasks: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ClaimRequest"];
            };
        };
        responses: {
            /** @description The claimed tasks (possibly none): up to `limit`, fewer when their rows would pass the answer bound (the rest stay queued) */
            200: {
                headers: {
                    /** @description how many more queued tasks the limit would have taken, left queued because the answer would have passed its bound: claim again */
                    "X-Claim-Deferred"?: string;
                    /** @description how many tasks were asked for (`limit`, default 1) */
                    "X-Claim-Limit"?: string;
                    /** @description how many tasks were claimed (the answer lists them all) */
                    "X-Claimed-Count"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Task"][];
                };
            };
            /** @description Bad body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not the live lease holder at that epoch */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    completeTasks: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CompleteTasksRequest"];
            };
        };
        responses: {
            /** @description Each task's outcome, in request order */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CompleteTasksAnswer"];
                };
            };
            /** @description Bad body (or a task twice) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Stale lease epoch: nothing was written */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Result lists too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    validateDesign: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description The design YAML itself, instead of href (not a Drydock field). */
                    content?: string;
                    href?: string;
                    rel?: string | null;
                    type?: string | null;
                };
            };
        };
        responses: {
            /** @description Valid design */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description Invalid design, reference or YAML (Status body, code 400) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The source failed; retry */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The source did not answer in time; retry */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    versions: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Versions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: {
                            path: string;
                            status: string;
                        };
                    };
                };
            };
            /** @description Unexpected error (the body names the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
}
